import { lixProject } from '../../vitest.shared.js';

export default lixProject('example-chat-demo', { testTimeout: 60_000 });
