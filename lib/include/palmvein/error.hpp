// SPDX-License-Identifier: Apache-2.0
// Errors thrown by palmvein. Failures that are expected in normal use (no palm in a frame) are
// results, not exceptions: see RoiResult and ExtractResult.
#pragma once

#include <stdexcept>
#include <string>

#include "palmvein/export.hpp"

PALMVEIN_NAMESPACE_BEGIN

// Base of every palmvein exception.
class PALMVEIN_API Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bytes that are not what they claim to be: a corrupt, truncated or foreign template or image.
class PALMVEIN_API FormatError : public Error {
 public:
  using Error::Error;
};

// A caller passed a value outside what the function accepts (bad option, wrong image size...).
class PALMVEIN_API InvalidArgument : public Error {
 public:
  using Error::Error;
};

// A file could not be read or written.
class PALMVEIN_API IoError : public Error {
 public:
  using Error::Error;
};

PALMVEIN_NAMESPACE_END
