// Stands in for iconv-lite and encoding-japanese in the Lambda bundles. mailauth's SPF module
// loads libmime, which loads them for decoding legacy charsets in mail headers; check-dns never
// decodes mail, and the two libraries are 700 KB of its 1.7 MB bundle. Anything that does call
// them fails loudly instead of mis-decoding.
const unavailable = (name) => () => {
  throw new Error(
    `${name} is not bundled into watchkeeper's Lambda functions (no job converts legacy charsets)`,
  );
};

module.exports = {
  decode: unavailable('iconv-lite decode'),
  encode: unavailable('iconv-lite encode'),
  getDecoder: unavailable('iconv-lite getDecoder'),
  getEncoder: unavailable('iconv-lite getEncoder'),
  encodingExists: () => false,
  convert: unavailable('encoding-japanese convert'),
  detect: () => false,
};
