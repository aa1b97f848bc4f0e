// Config messages show the rejected string itself (`REDIS_PORT="abc"`): the kernel's showValue.
export { showValue as describeValue } from '@lix/core';
