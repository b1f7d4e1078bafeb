// js-md4 ships no types. MD4 is what the NT hash is made of, and OpenSSL 3 has no MD4 by default.
declare module 'js-md4' {
  interface Md4 {
    arrayBuffer(message: Uint8Array | ArrayBuffer | string): ArrayBuffer;
  }
  const md4: Md4;
  export default md4;
}
