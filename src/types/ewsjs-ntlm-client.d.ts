// @ewsjs/ntlm-client ships no types: the three NTLM message functions ews-javascript-api itself uses.
declare module '@ewsjs/ntlm-client' {
  /** A decoded CHALLENGE (type 2) message. */
  export interface NtlmType2 {
    flags: number;
    encoding: 'ascii' | 'ucs2';
    /** 2 when the server set extended session security (NTLMv2 responses follow), else 1. */
    version: 1 | 2;
    challenge: Buffer;
    targetName: string;
    targetInfo?: { parsed: Record<string, string>; buffer: Buffer };
  }
  /** "NTLM <base64>" */
  export function createType1Message(workstation?: string, target?: string): string;
  /** Takes the base64 token (or "NTLM <base64>"). */
  export function decodeType2Message(token: string): NtlmType2;
  /** "NTLM <base64>" */
  export function createType3Message(
    type2: NtlmType2,
    username: string,
    password: string,
    workstation?: string,
    target?: string,
  ): string;
}
