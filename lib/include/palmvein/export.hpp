// SPDX-License-Identifier: Apache-2.0
// Symbol visibility and the ABI namespace of palmvein.
#pragma once

#if defined(_WIN32)
#define PALMVEIN_API
#else
#define PALMVEIN_API __attribute__((visibility("default")))
#endif

// Everything public lives in palmvein::v1 so that a future incompatible ABI can sit beside it.
#define PALMVEIN_NAMESPACE_BEGIN namespace palmvein { inline namespace v1 {
#define PALMVEIN_NAMESPACE_END } }
