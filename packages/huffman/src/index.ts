export { HuffmanCodec, type HuffmanCodecApi } from './codec.js';
export { decode, type DecodeOptions } from './decoder.js';
export { encode, type EncodeOptions } from './encoder.js';
export { HuffmanError, isHuffmanError, type HuffmanErrorCode } from './errors.js';
export {
  DEFAULT_MAX_CODE_LENGTH,
  DEFAULT_MAX_OUTPUT_LENGTH,
  MAX_FORMAT_CODE_LENGTH,
  MAX_ORIGINAL_LENGTH,
} from './format.js';
export { readHeader, type HuffmanHeader } from './header.js';
export { decodeToString, encodeString } from './text.js';
