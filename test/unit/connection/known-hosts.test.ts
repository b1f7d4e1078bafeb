import { describe, expect, it } from 'vitest';
import { knownHostsName, patternsMatch } from '../../../src/connection/known-hosts.js';

describe('known_hosts host patterns', () => {
  it('matches a plain name exactly, ignoring case, and [host]:port only on that port', () => {
    expect(patternsMatch('mail.example.org', 'MAIL.example.org')).toBe(true);
    expect(patternsMatch('mail.example.org', 'mail.example.org.evil')).toBe(false);
    expect(patternsMatch('[127.0.0.1]:2201', knownHostsName('127.0.0.1', 2201))).toBe(true);
    expect(patternsMatch('[127.0.0.1]:2201', knownHostsName('127.0.0.1', 2202))).toBe(false);
    // Regex metacharacters in a plain name are literal.
    expect(patternsMatch('a.b', 'axb')).toBe(false);
  });

  it('applies wildcards and negations the same way on every call (compiled once)', () => {
    for (let i = 0; i < 3; i++) {
      expect(patternsMatch('*.example.org,!bad.example.org', 'good.example.org')).toBe(true);
      expect(patternsMatch('*.example.org,!bad.example.org', 'bad.example.org')).toBe(false);
      expect(patternsMatch('host?', 'host7')).toBe(true);
      expect(patternsMatch('host?', 'host77')).toBe(false);
    }
  });
});
