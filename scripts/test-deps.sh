#!/usr/bin/env bash
# Makes sure the Debian packages the integration tests use are present (real sshd, socat, openssl, ss, sudo,
# age for the vault's interoperability test, curl for the migration preflight's web checks and get_url/uri,
# wget, zip, unzip, bzip2 and xz for get_url's fallback and unarchive's formats, tmux to read the live tree
# as a terminal shows it, ansible-core to compare with Ansible, git and rsync for gitlab-ci-local,
# systemd-container and debootstrap to run a host under real systemd).
# As root it installs what is missing; otherwise it says what to install and stops.
set -euo pipefail
missing=()
need() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || missing+=("$2"); }
need sshd openssh-server
need ssh-keygen openssh-client
need socat socat
need openssl openssl
need ss iproute2
need sudo sudo
need dpkg-deb dpkg
need age age
need script bsdutils
need curl curl
need wget wget
need zip zip
need unzip unzip
need bzip2 bzip2
need xz xz-utils
need tmux tmux
# The Ansible-parity tests compare with the real ansible-inventory and ansible-playbook (ansible-core).
need ansible-inventory ansible-core
need ansible-playbook ansible-core
# A3 against real systemd: a Debian container booted with systemd-nspawn from a tree debootstrap makes once
# (test/integration/systemd-nspawn.test.ts; the tree is cached in /var/cache/ewsplay-test).
need systemd-nspawn systemd-container
need debootstrap debootstrap
# gitlab-ci-local (the GitLab pipeline's test) needs git, and rsync to copy a checkout per job.
need git git
need rsync rsync
# An editor's view of the shipped YAML: Debian's python3 with PyYAML and python-jsonschema.
/usr/bin/python3 -c 'import jsonschema, yaml' >/dev/null 2>&1 || missing+=(python3-jsonschema python3-yaml)
# An EWS client no one here wrote, to judge the fake EWS: Debian's python3 with exchangelib (and requests-ntlm).
/usr/bin/python3 -c 'import exchangelib, requests_ntlm' >/dev/null 2>&1 || missing+=(python3-exchangelib)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "The integration tests need these Debian packages: ${missing[*]}" >&2
  echo "Install them (sudo apt-get install -y ${missing[*]}) and run the tests again." >&2
  exit 1
fi
echo "installing test dependencies: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
