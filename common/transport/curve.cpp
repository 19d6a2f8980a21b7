// SPDX-License-Identifier: Apache-2.0
// CurveZMQ key handling on top of libzmq's zmq_curve_keypair and Z85 codec.
#include "common/transport/curve.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

namespace xdc::transport {

namespace {

Result<void> writeFile(const std::string &path, const std::string &text, mode_t mode, bool force)
{
	int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (force ? 0 : O_EXCL);
	int fd = ::open(path.c_str(), flags, mode);
	if (fd < 0)
		return makeError(errno == EEXIST ? Errc::Exists : Errc::Io, "cannot write '{}': {}", path,
				 errno == EEXIST ? "file exists (use --force to replace it)" : strerror(errno));
	::fchmod(fd, mode);
	ssize_t w = ::write(fd, text.data(), text.size());
	::fsync(fd);
	::close(fd);
	if (w != static_cast<ssize_t>(text.size()))
		return makeError(Errc::Io, "short write to '{}'", path);
	return success();
}

std::string trim(std::string s)
{
	while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
		s.pop_back();
	size_t i = 0;
	while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
		i++;
	return s.substr(i);
}

} // namespace

bool isZ85Key(const std::string &s)
{
	if (s.size() != 40)
		return false;
	std::array<uint8_t, 32> raw{};
	return zmq_z85_decode(raw.data(), s.c_str()) != nullptr;
}

Result<KeyPair> generateKeyPair()
{
	char pub[41], sec[41];
	if (zmq_curve_keypair(pub, sec) != 0)
		return makeError(Errc::Unsupported, "zmq_curve_keypair failed: {} (libzmq built without CURVE?)",
				 zmq_strerror(zmq_errno()));
	return KeyPair{pub, sec};
}

Result<void> writeKeyPair(const std::string &dir, const std::string &name, const KeyPair &kp, bool force)
{
	const std::string base = dir + "/" + name;
	XDC_TRY(writeFile(base + ".key",
			  "# xdc CURVE key pair '" + name + "'. Keep secret: whoever has it can act as this peer.\n"
			  "public: " + kp.publicKey + "\nsecret: " + kp.secretKey + "\n", 0600, force));
	XDC_TRY(writeFile(base + ".pub", "# xdc CURVE public key '" + name + "'\npublic: " + kp.publicKey + "\n",
			  0644, force));
	return success();
}

Result<KeyPair> loadKeyPair(const std::string &path)
{
	struct stat st{};
	if (::stat(path.c_str(), &st) != 0)
		return makeError(Errc::NotFound, "key file '{}': {}", path, strerror(errno));
	if (st.st_mode & 077)
		return makeError(Errc::Refused, "key file '{}' is accessible by group or others (mode {:o}); "
				 "chmod 600 it", path, st.st_mode & 0777);
	std::ifstream f(path);
	KeyPair kp;
	std::string line;
	int n = 0;
	while (std::getline(f, line)) {
		n++;
		line = trim(line);
		if (line.empty() || line[0] == '#')
			continue;
		auto colon = line.find(':');
		if (colon == std::string::npos)
			return makeError(Errc::Invalid, "{}:{}: expected 'public: KEY' or 'secret: KEY'", path, n);
		std::string k = trim(line.substr(0, colon)), v = trim(line.substr(colon + 1));
		if (!isZ85Key(v))
			return makeError(Errc::Invalid, "{}:{}: '{}' is not a 40-character Z85 key", path, n, k);
		if (k == "public")
			kp.publicKey = v;
		else if (k == "secret")
			kp.secretKey = v;
		else
			return makeError(Errc::Invalid, "{}:{}: unknown key '{}' (expected public or secret)", path, n, k);
	}
	if (kp.secretKey.empty())
		return makeError(Errc::Invalid, "{}: no 'secret:' line", path);
	// Derive the public key from the secret and check they belong together.
	char derived[41];
	if (zmq_curve_public(derived, kp.secretKey.c_str()) != 0)
		return makeError(Errc::Invalid, "{}: secret key is not valid", path);
	if (!kp.publicKey.empty() && kp.publicKey != derived)
		return makeError(Errc::Invalid, "{}: public key does not match the secret key", path);
	kp.publicKey = derived;
	return kp;
}

Result<std::string> loadPublicKey(const std::string &literalOrPath)
{
	// Z85's alphabet includes '/', '.' and '-', so a 40-character path looks like a key: an existing file wins.
	if (isZ85Key(literalOrPath) && ::access(literalOrPath.c_str(), F_OK) != 0)
		return literalOrPath;
	std::ifstream f(literalOrPath);
	if (!f)
		return makeError(Errc::NotFound, "'{}' is neither a 40-character Z85 key nor a readable key file",
				 literalOrPath);
	std::string line;
	while (std::getline(f, line)) {
		line = trim(line);
		if (line.rfind("public:", 0) == 0) {
			std::string v = trim(line.substr(7));
			if (!isZ85Key(v))
				return makeError(Errc::Invalid, "{}: 'public:' is not a 40-character Z85 key", literalOrPath);
			return v;
		}
	}
	return makeError(Errc::Invalid, "{}: no 'public:' line", literalOrPath);
}

std::string fingerprint(const std::string &z85PublicKey)
{
	std::array<uint8_t, 32> raw{};
	if (z85PublicKey.size() != 40 || !zmq_z85_decode(raw.data(), z85PublicKey.c_str()))
		return "invalid-key";
	return fingerprintRaw(raw.data(), raw.size());
}

std::string fingerprintRaw(const uint8_t *raw, size_t len)
{
	static const char *hex = "0123456789abcdef";
	std::string out;
	for (size_t i = 0; i < std::min<size_t>(8, len); i++) {
		if (i && i % 2 == 0)
			out += ':';
		out += hex[raw[i] >> 4];
		out += hex[raw[i] & 15];
	}
	return out;
}

Result<AllowList> parseAllowList(const std::string &text, const std::string &origin)
{
	AllowList al;
	std::istringstream in(text);
	std::string line;
	int n = 0;
	std::map<std::string, int> idLine;
	while (std::getline(in, line)) {
		n++;
		line = trim(line);
		if (line.empty() || line[0] == '#')
			continue;
		std::istringstream fields(line);
		std::string id, key, extra;
		fields >> id >> key >> extra;
		if (key.empty() || !extra.empty())
			return makeError(Errc::Invalid, "{}:{}: expected 'AGENT-ID PUBLIC-KEY'", origin, n);
		if (!isZ85Key(key))
			return makeError(Errc::Invalid, "{}:{}: '{}' is not a 40-character Z85 public key", origin, n, key);
		if (al.idByKey.count(key))
			return makeError(Errc::Invalid, "{}:{}: key already listed for '{}'", origin, n, al.idByKey[key]);
		if (idLine.count(id))
			return makeError(Errc::Invalid, "{}:{}: agent id '{}' already listed on line {}", origin, n, id,
					 idLine[id]);
		idLine[id] = n;
		al.idByKey[key] = id;
	}
	return al;
}

Result<AllowList> loadAllowList(const std::string &path)
{
	std::ifstream f(path);
	if (!f)
		return makeError(Errc::NotFound, "allow-list '{}': {}", path, strerror(errno));
	std::stringstream ss;
	ss << f.rdbuf();
	return parseAllowList(ss.str(), path);
}

} // namespace xdc::transport
