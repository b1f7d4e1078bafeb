// Reading a 401's WWW-Authenticate headers: one header per scheme (IIS), several in one header (others).
import { describe, expect, it } from 'vitest';
import { challengesOf, schemesOf, tokenOf } from '../../../src/ews/www-authenticate.js';

const raw = (...values: string[]) => values.flatMap((v) => ['WWW-Authenticate', v]);

describe('WWW-Authenticate', () => {
  it('reads one scheme per header, as IIS sends them', () => {
    const c = challengesOf(['Content-Length', '0', ...raw('Negotiate', 'NTLM', 'Basic realm="mail"')]);
    expect(schemesOf(c)).toEqual(['Negotiate', 'NTLM', 'Basic']);
  });

  it('splits several schemes in one header, not the parameters of one', () => {
    expect(challengesOf(raw('Negotiate, NTLM, Basic realm="x"'))).toEqual([
      'Negotiate',
      'NTLM',
      'Basic realm="x"',
    ]);
    expect(challengesOf(raw('Basic realm="a", charset="UTF-8", NTLM'))).toEqual([
      'Basic realm="a", charset="UTF-8"',
      'NTLM',
    ]);
  });

  it("finds a scheme's token, case-insensitively, and only that scheme's", () => {
    const c = challengesOf(raw('NTLM TlRMTVNTUAACAAAA==, Negotiate abc+/='));
    expect(tokenOf(c, 'ntlm')).toBe('TlRMTVNTUAACAAAA==');
    expect(tokenOf(c, 'Negotiate')).toBe('abc+/=');
    expect(tokenOf(challengesOf(raw('Negotiate', 'NTLM')), 'NTLM')).toBeUndefined();
  });
});
