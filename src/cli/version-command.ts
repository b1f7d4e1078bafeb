// `ewsplay --version`, laid out as ansible-playbook's: the version, the Ansible config file in use (or
// None), what it runs (module count) and with what (Node's version and the executable's location).
import { realpathSync } from 'node:fs';
import { ANSIBLE_COMPAT_VERSION, VERSION } from '../core/version.js';
import { modules } from '../modules/index.js';
import { ansibleDefaults } from './ansible-config.js';

export async function versionText(): Promise<string> {
  const cfg = await ansibleDefaults();
  const { major, minor } = ANSIBLE_COMPAT_VERSION;
  const script = process.argv[1];
  let executable = script ?? 'unknown';
  try {
    if (script) executable = realpathSync(script);
  } catch {
    // A script path that is gone or unreadable is shown as given.
  }
  return [
    `ewsplay ${VERSION} [playbooks as ansible-core ${major}.${minor}]`,
    `  config file = ${cfg.file ?? 'None'}`,
    `  modules = ${modules.size} (built in)`,
    `  executable location = ${executable}`,
    `  node version = ${process.version} (${process.execPath})`,
    '',
  ].join('\n');
}
