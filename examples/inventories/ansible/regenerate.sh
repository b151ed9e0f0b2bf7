#!/bin/sh
# Rebuilds the JSON fixtures from the inventories next to this script with
# the real tool. Needs ansible-core (`pip install ansible-core`; these files
# were made with ansible-core 2.19.14). Run from anywhere:
#   sh examples/inventories/ansible/regenerate.sh
# The warnings about the reserved name `tags` are expected: fleetscope reads
# a host's `tags` variable as its tags (docs/fleet.md).
set -eu
cd "$(dirname "$0")"
ANSIBLE_INVENTORY="${ANSIBLE_INVENTORY:-ansible-inventory}"
"$ANSIBLE_INVENTORY" -i inventory.yml --list > ansible.json
# The export form keeps group vars under the groups; fleetscope refuses it.
"$ANSIBLE_INVENTORY" -i inventory.yml --list --export > ansible-export.json
# The ansible form of the test fleet that every format must select alike.
cd ../../../tests/fixtures/same-fleet
"$ANSIBLE_INVENTORY" -i inventory.yml --list > ansible.json
