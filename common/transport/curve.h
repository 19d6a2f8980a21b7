// SPDX-License-Identifier: Apache-2.0
// CurveZMQ keys: generation, key files, fingerprints, and the controller's allow-list of agent public keys.
#pragma once

#include <map>
#include <string>

#include "common/result.h"

namespace xdc::transport {

struct KeyPair {
	std::string publicKey; // Z85, 40 characters
	std::string secretKey; // Z85, 40 characters
};

Result<KeyPair> generateKeyPair();

// Writes DIR/NAME.key (public + secret, mode 0600) and DIR/NAME.pub (public only, 0644). Refuses to overwrite
// unless force is set.
Result<void> writeKeyPair(const std::string &dir, const std::string &name, const KeyPair &kp, bool force = false);
// Reads a .key file; refuses one readable by group or others, since a leaked secret key lets anyone act as its owner.
Result<KeyPair> loadKeyPair(const std::string &path);
// A public key given literally (40 Z85 characters) or as a path to a .pub or .key file.
Result<std::string> loadPublicKey(const std::string &literalOrPath);
bool isZ85Key(const std::string &s);

// A short, stable, printable name for a key: the first 8 bytes of the raw public key in hex.
std::string fingerprint(const std::string &z85PublicKey);
std::string fingerprintRaw(const uint8_t *raw, size_t len);

// The controller's allow-list: one "AGENT-ID PUBLIC-KEY" per line, '#' comments. The agent id becomes the ZAP user
// id of every connection made with that key, so an agent can only ever speak as itself.
struct AllowList {
	std::map<std::string, std::string> idByKey; // Z85 public key -> agent id
};
Result<AllowList> loadAllowList(const std::string &path);
Result<AllowList> parseAllowList(const std::string &text, const std::string &origin);

} // namespace xdc::transport
