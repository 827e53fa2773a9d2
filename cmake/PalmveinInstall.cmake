# SPDX-License-Identifier: Apache-2.0
# Installation as a Debian library expects it, beside the CMake package config (CMakeLists.txt):
# a pkg-config file per library, man pages made with help2man from --help, the udev rules for the USB
# sensors, the calibration table and the documentation. GNUInstallDirs layout throughout.

# --- pkg-config: palmvein-core.pc, palmvein-gallery.pc, palmvein-drivers.pc -------------------------
# The files are relocatable (${pcfiledir}), so a tree installed with `cmake --install --prefix X` works
# wherever it is. A static library needs its dependencies at every link, so in the default static build
# they are in Requires/Libs; a shared one hides them (Requires.private/Libs.private).
set(PALMVEIN_PKGCONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

function(palmvein_pkg_config target name description)
  cmake_parse_arguments(PC "" "" "REQUIRES;DEPENDS;LIBS" ${ARGN})
  get_target_property(PC_LIBRARY ${target} OUTPUT_NAME)
  set(PC_NAME ${name})
  set(PC_DESCRIPTION ${description})
  if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
    set(PC_PREFIX_FROM_PCDIR "")
    set(PC_LIBDIR ${CMAKE_INSTALL_LIBDIR})
  else()
    file(RELATIVE_PATH PC_PREFIX_FROM_PCDIR /${PALMVEIN_PKGCONFIG_DIR} /)
    string(REGEX REPLACE "/$" "" PC_PREFIX_FROM_PCDIR "${PC_PREFIX_FROM_PCDIR}")
    set(PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  endif()
  if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
    set(PC_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR})
  else()
    set(PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
  endif()
  list(JOIN PC_REQUIRES " " requires)       # other palmvein libraries: always public
  list(JOIN PC_DEPENDS " " depends)         # third-party pkg-config modules
  list(JOIN PC_LIBS " " libs)               # third-party libraries without a .pc of their own
  if(BUILD_SHARED_LIBS)
    set(PC_REQUIRES "${requires}")
    set(PC_REQUIRES_PRIVATE "${depends}")
    set(PC_LIBS "")
    set(PC_LIBS_PRIVATE "${libs}")
  else()
    string(STRIP "${requires} ${depends}" PC_REQUIRES)
    set(PC_REQUIRES_PRIVATE "")
    set(PC_LIBS "${libs}")
    set(PC_LIBS_PRIVATE "")
  endif()
  configure_file(${PROJECT_SOURCE_DIR}/cmake/palmvein.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/${name}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/${name}.pc DESTINATION ${PALMVEIN_PKGCONFIG_DIR} COMPONENT dev)
endfunction()

# OpenCV: only the modules the libraries use (opencv4.pc would link every module of the package).
set(PALMVEIN_PC_OPENCV -lopencv_imgcodecs -lopencv_imgproc -lopencv_core)
palmvein_pkg_config(palmvein_core palmvein-core "palmvein palm-vein recognition: ROI, templates, matching, 1:N"
  DEPENDS libpng libjpeg zlib LIBS ${PALMVEIN_PC_OPENCV} -pthread)
if(TARGET palmvein_gallery)
  palmvein_pkg_config(palmvein_gallery palmvein-gallery "palmvein enrolment and encrypted SQLite gallery"
    REQUIRES palmvein-core DEPENDS sqlite3 libsodium LIBS -pthread)
endif()
if(TARGET palmvein_drivers)
  palmvein_pkg_config(palmvein_drivers palmvein-drivers "palmvein sensor drivers (virtual, file, USB, UVC)"
    REQUIRES palmvein-core DEPENDS libusb-1.0 libuvc zlib LIBS ${PALMVEIN_PC_OPENCV} -pthread)
endif()

# --- man pages: help2man from each program's --help and --version (Debian package help2man) ----------
# Made in the build when help2man is there, so a --help that help2man cannot read fails the build.
# Man pages and udev rules run the built tool; sanitizer builds (test-only, never installed) skip
# both, so that a sanitizer report at exit cannot break their build.
set(palmvein_run_tools ON)
if(CMAKE_CROSSCOMPILING OR PALMVEIN_SANITIZE OR PALMVEIN_TSAN)
  set(palmvein_run_tools OFF)
endif()
find_program(PALMVEIN_HELP2MAN help2man)
set(palmvein_man_pages)
function(palmvein_man_page target page summary)
  set(out ${PROJECT_BINARY_DIR}/man/${page}.1)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND ${CMAKE_COMMAND} -E env DISPLAY= WAYLAND_DISPLAY= ${PALMVEIN_HELP2MAN} --no-info --section=1
            --name=${summary} --output=${out} $<TARGET_FILE:${target}>
    DEPENDS ${target} VERBATIM)
  set(palmvein_man_pages ${palmvein_man_pages} ${out} PARENT_SCOPE)
endfunction()
if(PALMVEIN_HELP2MAN AND palmvein_run_tools)
  if(TARGET palmvein_cli)
    palmvein_man_page(palmvein_cli palmvein "palm-vein recognition: capture, enrol, verify, identify, evaluate")
  endif()
  if(TARGET palmvein_demo_gui)
    palmvein_man_page(palmvein_demo_gui palmvein-demo "live palm-vein demo window: enrol, verify, identify")
  endif()
  if(palmvein_man_pages)
    add_custom_target(palmvein_man_pages ALL DEPENDS ${palmvein_man_pages})
    install(FILES ${palmvein_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)
  endif()
elseif(PALMVEIN_BUILD_APPS)
  message(STATUS "help2man not found: no man pages (Debian package help2man)")
endif()

# --- udev rules: the CLI's `palmvein udev-rules` output, from the one table of USB ids -------------
# Relative to the prefix: /usr/lib/udev/rules.d for a Debian package (prefix /usr).
set(PALMVEIN_UDEV_RULES_DIR lib/udev/rules.d CACHE STRING "Where the udev rules are installed (relative: under the prefix)")
if(TARGET palmvein_cli AND TARGET palmvein_drivers AND palmvein_run_tools)
  set(rules ${PROJECT_BINARY_DIR}/udev/70-palmvein.rules)
  add_custom_command(OUTPUT ${rules}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/udev
    COMMAND $<TARGET_FILE:palmvein_cli> udev-rules --output ${rules}
    DEPENDS palmvein_cli VERBATIM)
  add_custom_target(palmvein_udev_rules ALL DEPENDS ${rules})
  install(FILES ${rules} DESTINATION ${PALMVEIN_UDEV_RULES_DIR} COMPONENT tools)
endif()

# --- data and documentation -------------------------------------------------------------------
install(FILES ${PROJECT_SOURCE_DIR}/models/score_calibration.csv ${PROJECT_SOURCE_DIR}/models/README.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/palmvein/models COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs COMPONENT runtime)
