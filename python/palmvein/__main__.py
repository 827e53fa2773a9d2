# SPDX-License-Identifier: Apache-2.0
"""python3 -m palmvein: the package's version and where it was loaded from."""
import palmvein

print(f"palmvein {palmvein.__version__} (algorithm {palmvein.default_algorithm_id()}: "
      f"{palmvein.algorithm_name(palmvein.default_algorithm_id())}) from {palmvein.__file__}")
