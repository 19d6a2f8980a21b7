// SPDX-License-Identifier: Apache-2.0
// (placeholder until the tests land)
#include <doctest/doctest.h>
