# SPDX-License-Identifier: Apache-2.0
# Debian packages with CPack's DEB generator: `cpack -G DEB` in the build folder (tests/package).
#   libpalmvein<SOVERSION>  the shared libraries (in a shared build), the calibration table, the docs
#   libpalmvein-dev         headers, CMake package config, pkg-config files, static libraries and
#                           the .so links, the API reference (where Doxygen built it)
#   palmvein-tools          the `palmvein` tool, `palmvein-demo`, their man pages, the udev rules
#   python3-palmvein        the Python package (where it is built)
# Which file goes where is decided by the COMPONENT of each install() (runtime, dev, tools, python).
# Packages meant for installation are built from a tree configured with -DCMAKE_INSTALL_PREFIX=/usr:
# GNUInstallDirs then uses Debian's multiarch LIBDIR and the Python package goes where Debian's
# python3 looks (/usr/lib/python3/dist-packages). The package contents are relative to the prefix, so
# another prefix still packages (under /usr), as the test does with the ordinary build tree.
# Library dependencies of the shared objects and programs come from dpkg-shlibdeps (package
# dpkg-dev); what a link needs (the -dev packages) is stated here.

set(PALMVEIN_DEB_RUNTIME libpalmvein${PROJECT_VERSION_MAJOR})
set(PALMVEIN_DEB_RELEASE 1)
set(PALMVEIN_DEB_VERSION ${PROJECT_VERSION}-${PALMVEIN_DEB_RELEASE})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME palmvein)
set(CPACK_PACKAGE_VENDOR "palmvein")
set(CPACK_PACKAGE_CONTACT "palmvein maintainers <palmvein@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)  # one package per component; descriptions: first line = summary
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${PALMVEIN_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)  # CPACK_COMPONENT_X_DEPENDS become Depends (= version)

find_program(PALMVEIN_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(PALMVEIN_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  # Our own shared libraries (shared build) are not in any installed package yet: dpkg-shlibdeps finds
  # them in the build tree, and the Depends on libpalmvein<N> is stated (CPACK_COMPONENT_X_DEPENDS).
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS
      ${PROJECT_BINARY_DIR}/lib ${PROJECT_BINARY_DIR}/lib/gallery ${PROJECT_BINARY_DIR}/drivers)
else()
  message(STATUS "dpkg-shlibdeps not found (Debian package dpkg-dev): the .deb files name no library dependencies")
endif()

# --- the packages ----------------------------------------------------------------------------------
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME ${PALMVEIN_DEB_RUNTIME})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)  # a shlibs file for the shared libraries (runtime only has them)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
    "palm-vein recognition library: runtime\nROI extraction, templates, matching, 1:N search, the encrypted\ngallery and the sensor drivers (virtual, file, USB, UVC); calibration table and docs.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libpalmvein-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DEPENDS runtime)
# palmveinConfig.cmake finds OpenCV, Eigen, libpng, libjpeg and zlib for the core (and a static core
# links them). The gallery's and drivers' modules only matter to apps that use those components: a
# core-only consumer needs none of them, hence Recommends.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "libopencv-dev (>= 4), libeigen3-dev (>= 3.3), libpng-dev, libjpeg-dev, zlib1g-dev, pkg-config")
set(CPACK_DEBIAN_DEV_PACKAGE_RECOMMENDS "cmake (>= 3.25), libsqlite3-dev, libsodium-dev, libusb-1.0-0-dev, libuvc-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "palm-vein recognition library: development files\nHeaders, CMake package config (find_package(palmvein)), pkg-config files\n(palmvein-core, palmvein-gallery, palmvein-drivers) and the libraries to link.")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME palmvein-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION science)
set(CPACK_COMPONENT_TOOLS_DEPENDS runtime)
set(CPACK_COMPONENT_TOOLS_DESCRIPTION
    "palm-vein recognition tools\npalmvein (capture, enrol, verify, identify, evaluate), the palmvein-demo\nwindow, their man pages and the udev rules for the USB sensors.")

set(CPACK_DEBIAN_PYTHON_PACKAGE_NAME python3-palmvein)
set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
set(CPACK_COMPONENT_PYTHON_DEPENDS runtime)
set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS "python3, python3-numpy")
set(CPACK_DEBIAN_PYTHON_PACKAGE_SUGGESTS "python3-distributed")
set(CPACK_COMPONENT_PYTHON_DESCRIPTION
    "palm-vein recognition: Python bindings\nThe palmvein module: templates, matching, galleries and evaluation from Python.")

set(CPACK_COMPONENTS_ALL runtime dev)
if(PALMVEIN_BUILD_APPS)
  list(APPEND CPACK_COMPONENTS_ALL tools)
endif()
if(PALMVEIN_PYTHON_ENABLED)
  list(APPEND CPACK_COMPONENTS_ALL python)
endif()
include(CPack)
