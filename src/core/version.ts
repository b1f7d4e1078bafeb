// ewsplay's version (from package.json) and the Ansible release whose behaviour it follows, in one place.
import { readFileSync } from 'node:fs';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * What `ansible_version` says to playbooks: the ansible-core release ewsplay is tested against, so that
 * `ansible_version.full is version('2.9', '>=')` guards behave as written.
 */
export const ANSIBLE_COMPAT_VERSION = { major: 2, minor: 14, revision: 0 } as const;
