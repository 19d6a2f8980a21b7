// SPDX-License-Identifier: Apache-2.0
// `xdc lab up --sshd [--host-root DIR]`: a lab-private sshd in every host, the Ansible inventory, and each host's own
// root filesystem (docs/DEPLOYMENT.md, "The lab").
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/sys/file.h"
#include "common/sys/process.h"
#include "controller/cli/cli.h"
#include "controller/cli/lab_internal.h"
#include "controller/lab/topology.h"

namespace xdc::cli::labx {

namespace fs = std::filesystem;

namespace {

// True once something accepts TCP connections on addr:port (IPv4, from the host namespace). A lab address answers
// at once (accepted or refused), so a plain blocking connect is enough.
bool tcpOpen(const std::string &addr, int port)
{
	sockaddr_in sa{};
	sa.sin_family = AF_INET;
	sa.sin_port = htons(static_cast<uint16_t>(port));
	if (::inet_pton(AF_INET, addr.c_str(), &sa.sin_addr) != 1)
		return false;
	const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	const bool ok = ::connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) == 0;
	::close(fd);
	return ok;
}

} // namespace

// `up --sshd`: an sshd in every host namespace with a lab-private configuration (its address, host keys, authorized
// keys, pid file, all under the lab's state dir; never /etc/ssh or ~/.ssh), an Ansible key and known_hosts file, and an
// Ansible inventory of the lab (docs/DEPLOYMENT.md). Processes are recorded so `down` stops them.
// `up --sshd --host-root DIR`: each host its own root filesystem, an overlay whose lower layer is DIR (shared,
// never written) and whose upper layer is the host's, under stateDir/roots/HOST, with its own /proc. The host's sshd
// chroots every session into it, so what Ansible installs on one host (a package into /usr/bin, /etc) is on that
// host only. `down` unmounts them (lab::removeLabState).
Result<void> mountHostRoots(lab::LabState &st, const std::string &dir)
{
	// sshd's ChrootDirectory: every component of the path root-owned and writable by root only.
	for (fs::path p = fs::path(dir); !p.empty(); p = p.parent_path()) {
		struct stat sb{};
		if (::stat(p.c_str(), &sb) != 0)
			return makeError(Errc::Io, "--host-root: cannot stat {}: {}", p.string(), std::strerror(errno));
		if (sb.st_uid != 0 || (sb.st_mode & 022))
			return makeError(Errc::Invalid,
					 "--host-root: {} must be owned by root and writable by root only (sshd's "
					 "ChrootDirectory); set XDC_LAB_ROOT to such a directory",
					 p.string());
		if (p == p.parent_path())
			break;
	}
	for (const auto &h : st.hosts) {
		const std::string base = dir + "/roots/" + h.name;
		const std::string root = lab::hostRootPath(st.name, h.name);
		for (const auto &d : {dir + "/roots", base, base + "/upper", base + "/work", root})
			if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST)
				return makeError(Errc::Io, "cannot create {}: {}", d, std::strerror(errno));
		const std::string opts =
			fmt::format("lowerdir={},upperdir={}/upper,workdir={}/work", st.hostRoot, base, base);
		if (::mount("overlay", root.c_str(), "overlay", 0, opts.c_str()) != 0)
			return makeError(Errc::Io, "cannot mount {}'s root (overlay {}): {}", h.name, opts,
					 std::strerror(errno));
		if (::mount("proc", (root + "/proc").c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
			return makeError(Errc::Io, "cannot mount /proc in {}'s root: {}", h.name, std::strerror(errno));
	}
	return success();
}

Result<void> startSshd(lab::LabState &st, const std::string &dir, const std::string &endpoint, bool js)
{
	const std::string sshd = "/usr/sbin/sshd";
	if (::access(sshd.c_str(), X_OK) != 0 || ::access("/usr/bin/ssh-keygen", X_OK) != 0)
		return makeError(Errc::NotFound, "--sshd needs {} and ssh-keygen (apt-get install openssh-server)", sshd);
	const std::string sdir = dir + "/ssh";
	::mkdir(sdir.c_str(), 0700);
	// sshd's privilege separation directory; Debian's package creates it only when its own service starts.
	::mkdir("/run/sshd", 0755);
	auto keygen = [](const std::string &file, const std::string &comment) -> Result<void> {
		::unlink(file.c_str());
		::unlink((file + ".pub").c_str());
		auto r = sys::runChecked({"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file});
		if (!r)
			return r.error();
		return success();
	};
	if (!st.hostRoot.empty()) {
		XDC_TRY(st.save());
		XDC_TRY(mountHostRoots(st, dir));
	}
	XDC_TRY(keygen(sdir + "/ansible_key", "ansible@xdc-lab-" + st.name));
	auto authorized = sys::readFile(sdir + "/ansible_key.pub");
	if (!authorized)
		return authorized.error();
	XDC_TRY(writeText(sdir + "/authorized_keys", *authorized, 0600));
	std::string known;
	for (const auto &h : st.hosts) {
		const std::string hk = fmt::format("{}/{}_host_ed25519_key", sdir, h.name);
		XDC_TRY(keygen(hk, "host " + h.name + " of lab " + st.name));
		auto pubFile = sys::readFile(hk + ".pub");
		if (!pubFile)
			return pubFile.error();
		std::string pub = pubFile->substr(0, pubFile->find('\n'));
		pub = pub.substr(0, pub.find(' ', pub.find(' ') + 1)); // "ssh-ed25519 AAAA..."
		known += fmt::format("{} {}\n", h.mgmt4, pub);
		const std::string cfg = fmt::format("{}/{}_sshd_config", sdir, h.name);
		XDC_TRY(writeText(cfg,
				  fmt::format("# sshd of lab {} host {}: lab-private, never the host's /etc/ssh\n"
					      "ListenAddress {}:22\nHostKey {}\nAuthorizedKeysFile {}/authorized_keys\n"
					      "PidFile {}/{}_sshd.pid\nPermitRootLogin prohibit-password\n"
					      "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
					      "PrintMotd no\nStrictModes yes\nMaxStartups 50\nMaxSessions 50\n"
					      "Subsystem sftp internal-sftp\n{}",
					      st.name, h.name, h.mgmt4, hk, sdir, sdir, h.name,
					      st.hostRoot.empty()
						      ? ""
						      : fmt::format("# sessions see the host's own root (--host-root)\n"
								    "ChrootDirectory {}\n",
								    lab::hostRootPath(st.name, h.name))),
				  0600));
		auto pid = sys::spawn({sshd, "-D", "-e", "-f", cfg},
				      {.netns = h.netns, .stdoutFile = fmt::format("{}/{}_sshd.log", sdir, h.name)});
		if (!pid)
			return pid.error();
		st.processes.push_back({*pid, sys::processStartTime(*pid).value_or(0), "sshd", h.name, {}});
		XDC_TRY(st.save());
	}
	XDC_TRY(writeText(sdir + "/known_hosts", known, 0644));
	const int64_t deadline = clk::monoNs() + 10 * clk::kSec;
	for (const auto &h : st.hosts) {
		while (!tcpOpen(h.mgmt4, 22)) {
			if (clk::monoNs() > deadline)
				return makeError(Errc::Timeout, "sshd of {} did not listen on {}:22 within 10 s; see {}/{}_sshd.log",
						 h.name, h.mgmt4, sdir, h.name);
			::usleep(20000);
		}
	}
	// The Ansible inventory: groups are DCs, host vars carry labels and, where the hosts share this machine's
	// filesystem, per-host install prefixes (with --host-root each host has its own root: the role's defaults); the
	// controller group is this machine.
	const std::string adir = dir + "/ansible";
	::mkdir(adir.c_str(), 0755);
	std::string inv = fmt::format("# Ansible inventory of lab {} (written by xdc lab up --sshd)\n"
				      "all:\n  vars:\n    ansible_user: root\n"
				      "    ansible_ssh_private_key_file: {}/ansible_key\n"
				      "    ansible_ssh_common_args: >-\n      -o UserKnownHostsFile={}/known_hosts\n"
				      "      -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes\n"
				      "    ansible_python_interpreter: /usr/bin/python3\n"
				      "    xdc_controller_endpoint: {}\n    xdc_controller_pub: {}/keys/controller.pub\n"
				      "    xdc_controller_allow_file: {}/keys/agents.allow\n"
				      "    xdc_controller_control: {}\n    xdc_lab: {}\n"
				      "    # the lab runs its own controller; agents install from this build's binary\n"
				      "    xdc_controller_install: false\n    xdc_bin: {}\n    xdc_agent_binary: {}\n"
				      "  children:\n    xdc_controller:\n      hosts:\n        localhost:\n"
				      "          ansible_connection: local\n    xdc_agents:\n      children:\n",
				      st.name, sdir, sdir, endpoint, dir, dir, labControlPath(st.name), st.name, selfExe(),
				      findAgentBinary());
	for (int d = 1; d <= st.dcs; d++)
		inv += fmt::format("        dc{}:\n", d);
	for (int d = 1; d <= st.dcs; d++) {
		inv += fmt::format("    dc{}:\n      hosts:\n", d);
		for (const auto &h : st.hosts)
			if (h.dc == d)
				inv += fmt::format("        {}:\n          ansible_host: {}\n{}"
						   "          xdc_agent_labels: {{role: streams, lab: {}, rack: r{}}}\n",
						   h.name, h.mgmt4,
						   st.hostRoot.empty()
							   ? fmt::format("          xdc_agent_prefix: {}/hosts/{}\n", dir, h.name)
							   : "",
						   st.name, h.index);
	}
	XDC_TRY(writeText(adir + "/inventory.yml", inv, 0644));
	progress(js, fmt::format("sshd on {} hosts; Ansible inventory {}/inventory.yml", st.hosts.size(), adir));
	return success();
}

} // namespace xdc::cli::labx
