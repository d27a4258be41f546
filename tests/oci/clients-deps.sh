#!/bin/bash
# clients-deps.sh: installs from Debian the container clients tests/oci/clients.sh drives, only
# those missing (quick when all are there): podman 4.3 with conmon, containerd 1.6 with ctr and
# containerd-shim-runc-v2, runc (the reference runtime), busybox-static (the image's rootfs).
# Rootless helpers (uidmap, slirp4netns) are not needed: the tests run as root with
# netns = "none". Debian's containerd package is not started here (no systemd); the test starts
# its own containerd.
exec "$(dirname "$0")/../../scripts/apt-install.sh" clients-deps \
	podman conmon golang-github-containers-common containerd runc busybox-static
