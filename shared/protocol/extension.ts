/**
 * The extension's fixed identity. `EXTENSION_PUBLIC_KEY` goes into manifest.json as `key`, which
 * pins the extension id for unpacked installs, so the server can allow its origin by default.
 * (Only the public key is committed; the id is derived from it: SHA-256 of the DER key, first 32
 * hex digits mapped 0-f → a-p — https://developer.chrome.com/docs/extensions/reference/manifest/key)
 */
export const EXTENSION_PUBLIC_KEY =
  "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2k5uP9DrTh4aU5Tx9VtbwC8WrmfBt6Xv8Xb4amiC/SWXg2swlcDFFO8lbITrhL+f1aSvmhWewINtl/y9Ee62nu4LIcm4x06zkh8s1TwkvVPp35F3xMPDIqsPRSfV6u1qqK4+FSH9gPiU6he09n95tjwTq9UcskRH/dTiexCwA2GzL99T+/5jXuT+cQ54v88wFRPiQLxgwCPXANl8O0QjLYisJd9kYGYgVffhbaAz51QUsie59+uZQO+drGs9NDsaEWwotpTlIVeS4znEUcvTxK1vgYHudKpyQKW1LvcIbZmJn7TBanh4e2SqPRWaIe8ZzxEi0GmRVCXN6yqxGyFtjQIDAQAB";
export const EXTENSION_ID = "blpblhkabmeohcnnffakehmljfmjeiol";
export const EXTENSION_ORIGIN = `chrome-extension://${EXTENSION_ID}`;
