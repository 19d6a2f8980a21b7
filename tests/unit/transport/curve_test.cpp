// SPDX-License-Identifier: Apache-2.0
// Key files and the allow-list.
#include <doctest/doctest.h>

#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

#include "common/transport/curve.h"

using namespace xdc;
using namespace xdc::transport;

TEST_CASE("key pairs are written 0600, read back, and refused when readable by others")
{
	char tmpl[] = "/tmp/xdc-keytest-XXXXXX";
	std::string dir = mkdtemp(tmpl);
	auto kp = generateKeyPair();
	REQUIRE(kp.ok());
	REQUIRE(writeKeyPair(dir, "a", *kp).ok());
	struct stat st{};
	REQUIRE(stat((dir + "/a.key").c_str(), &st) == 0);
	CHECK((st.st_mode & 0777) == 0600);
	auto back = loadKeyPair(dir + "/a.key");
	REQUIRE(back.ok());
	CHECK(back->publicKey == kp->publicKey);
	CHECK(back->secretKey == kp->secretKey);
	CHECK(*loadPublicKey(dir + "/a.pub") == kp->publicKey);
	CHECK(*loadPublicKey(kp->publicKey) == kp->publicKey);
	CHECK(writeKeyPair(dir, "a", *kp).error().code == Errc::Exists);
	chmod((dir + "/a.key").c_str(), 0644);
	CHECK(loadKeyPair(dir + "/a.key").error().code == Errc::Refused);
	CHECK(fingerprint(kp->publicKey).size() == 19);
	CHECK(fingerprint("nonsense") == "invalid-key");
	unlink((dir + "/a.key").c_str());
	unlink((dir + "/a.pub").c_str());
	rmdir(dir.c_str());
}

TEST_CASE("allow-list parsing reports the line")
{
	auto k1 = generateKeyPair(), k2 = generateKeyPair();
	auto ok = parseAllowList("# c\n\ndc1-h1 " + k1->publicKey + "\ndc1-h2 " + k2->publicKey + "\n", "allow");
	REQUIRE(ok.ok());
	CHECK(ok->idByKey.at(k1->publicKey) == "dc1-h1");
	auto dupKey = parseAllowList("a " + k1->publicKey + "\nb " + k1->publicKey + "\n", "allow");
	REQUIRE_FALSE(dupKey.ok());
	CHECK(dupKey.error().message.find("allow:2:") == 0);
	auto dupId = parseAllowList("a " + k1->publicKey + "\na " + k2->publicKey + "\n", "allow");
	CHECK(dupId.error().message.find("already listed on line 1") != std::string::npos);
	CHECK_FALSE(parseAllowList("a notakey\n", "allow").ok());
	CHECK_FALSE(parseAllowList("a " + k1->publicKey + " extra\n", "allow").ok());
}
