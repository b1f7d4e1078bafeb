// The sentence for "no TLS version in common", whichever way Node and OpenSSL report it. The real handshakes
// (a TLS 1.0-only server, directly and through a tunnel) are in tls.test.ts; these are the other spellings
// of the same failure, and what is said when the server's version could not be learned.
import { describe, expect, it } from 'vitest';
import { describeEwsFailure, isTlsVersionFailure } from '../../../src/ews/errors.js';

const ctx = {
  url: 'https://exch1.corp.example/EWS/Exchange.asmx',
  username: 'CORP\\svc',
  auth: 'auto' as const,
  mailbox: 'anna@corp.example',
  operation: 'GetFolder (calendar)',
};

const spellings = [
  { code: 'ERR_SSL_UNSUPPORTED_PROTOCOL', message: 'unsupported protocol' },
  { code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', message: 'tlsv1 alert protocol version' },
  {
    code: 'EPROTO',
    message: 'C0:error:0A000102:SSL routines:ssl_choose_client_version:unsupported protocol',
  },
  { code: 'EPROTO', message: 'error:0A0000BF:SSL routines::no protocols available' },
  { code: 'EPROTO', message: 'SSL routines:ssl3_get_record:wrong version number' },
];

describe('no TLS version in common with EWS', () => {
  it.each(spellings)('$code ($message) is a TLS version failure', (transport) => {
    expect(isTlsVersionFailure(new Error('request failed'), transport)).toBe(true);
  });

  it('other TLS failures are not', () => {
    expect(isTlsVersionFailure({}, { code: 'EPROTO', message: 'sslv3 alert handshake failure' })).toBe(false);
    expect(isTlsVersionFailure({}, { code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed' })).toBe(
      false,
    );
    expect(isTlsVersionFailure({}, { code: 'ECONNREFUSED', message: 'refused' })).toBe(false);
  });

  it.each(spellings)(
    'a server that speaks only TLS 1.0 is named, with the forwarder (A3) as the fix',
    (transport) => {
      const e = describeEwsFailure(new Error('x'), { ...ctx, serverTls: 'TLSv1' }, transport);
      expect(e.kind).toBe('tls');
      expect(e.message).toBe(
        "EWS at https://exch1.corp.example/EWS/Exchange.asmx speaks only TLS 1.0 (TLSv1 is the newest version it accepts) and this side allows TLSv1.2 and newer, so the TLS handshake failed: go through the TLS forwarder of step A3 (ews_verify_through_forwarder: true, the way VK's containers reach EWS: TLS 1.3 to the forwarder on the mail server, TLS 1.0 from it to Exchange), or set min_tls_version: TLSv1 for a direct call",
      );
    },
  );

  it('names TLS 1.1 the same way, and says what this side allowed', () => {
    const e = describeEwsFailure(
      {},
      { ...ctx, minTlsVersion: 'TLSv1.2', serverTls: 'TLSv1.1' },
      { code: 'ERR_SSL_UNSUPPORTED_PROTOCOL', message: 'unsupported protocol' },
    );
    expect(e.message).toMatch(
      /speaks only TLS 1\.1 \(TLSv1\.1 is the newest version it accepts\) and this side allows TLSv1\.2 and newer, .*set min_tls_version: TLSv1\.1 for a direct call$/,
    );
  });

  it('when the server could not be asked, still points at min_tls_version and the forwarder', () => {
    const e = describeEwsFailure({}, ctx, {
      code: 'ERR_SSL_UNSUPPORTED_PROTOCOL',
      message: 'unsupported protocol',
    });
    expect(e.message).toBe(
      'EWS at https://exch1.corp.example/EWS/Exchange.asmx: the TLS handshake failed on the protocol version (this side allows TLSv1.2 and newer); set min_tls_version to a version the server speaks, or, for an Exchange that speaks only TLS 1.0 or 1.1, go through the TLS forwarder of step A3 (ews_verify_through_forwarder: true)',
    );
  });
});
