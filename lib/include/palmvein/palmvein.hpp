// SPDX-License-Identifier: Apache-2.0
// Umbrella header of the palmvein core library.
#pragma once

#include "palmvein/calibration.hpp"
#include "palmvein/error.hpp"
#include "palmvein/extractor.hpp"
#include "palmvein/hand.hpp"
#include "palmvein/image.hpp"
#include "palmvein/matcher.hpp"
#include "palmvein/roi.hpp"
#include "palmvein/template.hpp"
#include "palmvein/transparency.hpp"
#include "palmvein/version.hpp"
