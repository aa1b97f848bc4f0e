/** ASCII `HCv1`, the first four bytes of every stream. */
export const MAGIC: Uint8Array = Uint8Array.of(0x48, 0x43, 0x76, 0x31);
/** Magic (4) + original length (4) + symbol count (2). */
export const FIXED_HEADER_LENGTH = 10;
/** The padding field that follows the symbol table. */
export const PADDING_FIELD_LENGTH = 4;
/** A code length is one byte in the table, so no code can be longer. */
export const MAX_FORMAT_CODE_LENGTH = 255;
/** The original length is a uint32. */
export const MAX_ORIGINAL_LENGTH = 0xffff_ffff;
/** Default ceiling on the declared output length `decode` will allocate. */
export const DEFAULT_MAX_OUTPUT_LENGTH = 1 << 30;
/** Default code-length limit of the encoder; matches the decoder's lookup width. */
export const DEFAULT_MAX_CODE_LENGTH = 12;
