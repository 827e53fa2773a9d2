#pragma once
#include "palmvein/export.hpp"
PALMVEIN_NAMESPACE_BEGIN
PALMVEIN_API const char* version_string() noexcept;  // "0.1.0"
PALMVEIN_NAMESPACE_END
