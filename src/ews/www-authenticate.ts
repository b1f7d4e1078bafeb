// Reading the WWW-Authenticate headers of a 401: which schemes a server offers, and the token of a scheme's
// challenge. IIS sends one header per scheme; other servers list several in one header, split here on the
// commas that start a new scheme (a parameter such as realm="..." is not one).

/**
 * A comma that starts a challenge: a scheme name followed by nothing, a token68 (NTLM's base64) or a parameter
 * (realm=...); a comma before a bare name=value only separates parameters.
 */
const NEXT_CHALLENGE = /,\s*(?=[A-Za-z][\w-]*(?:\s*(?:,|$)|\s+[\w.~+/-]+=*\s*(?:,|$)|\s+[\w-]+\s*=))/;

/** Each challenge of a response, e.g. ["Negotiate", "NTLM", 'Basic realm="x"'] or ["NTLM TlRMTVNT..."]. */
export function challengesOf(rawHeaders: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() !== 'www-authenticate') continue;
    for (const part of (rawHeaders[i + 1] ?? '').split(NEXT_CHALLENGE)) {
      const challenge = part.trim();
      if (challenge) out.push(challenge);
    }
  }
  return out;
}

/** The scheme names offered, as the server spells them, e.g. ["Negotiate", "NTLM"]. */
export function schemesOf(challenges: string[]): string[] {
  return [...new Set(challenges.map((c) => c.split(/\s+/)[0] ?? '').filter(Boolean))];
}

/** The token of a challenge under `scheme` ("NTLM <token>"), if the server sent one. */
export function tokenOf(challenges: string[], scheme: string): string | undefined {
  for (const c of challenges) {
    const m = /^(\S+)\s+([A-Za-z0-9+/]+={0,2})$/.exec(c);
    if (m?.[1]?.toLowerCase() === scheme.toLowerCase()) return m[2];
  }
  return undefined;
}

export function offers(scheme: string, offered: string[]): boolean {
  return offered.some((o) => o.toLowerCase() === scheme.toLowerCase());
}
