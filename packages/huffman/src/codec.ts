import { decode } from './decoder.js';
import { encode } from './encoder.js';
import { decodeToString, encodeString } from './text.js';

/** The codec as one frozen object, for parity with the original's `HuffmanCodec.encode/decode`. */
export interface HuffmanCodecApi {
  /** See {@link encode}. */
  readonly encode: typeof encode;
  /** See {@link decode}. */
  readonly decode: typeof decode;
  /** See {@link encodeString}. */
  readonly encodeString: typeof encodeString;
  /** See {@link decodeToString}. */
  readonly decodeToString: typeof decodeToString;
}

/** `HuffmanCodec.encode(bytes)` / `HuffmanCodec.decode(stream)`, as in the Python original. */
export const HuffmanCodec: HuffmanCodecApi = Object.freeze({ encode, decode, encodeString, decodeToString });
