# SPDX-License-Identifier: Apache-2.0
# The API reference: Doxygen (Debian package doxygen) over the public headers, HTML in
# BUILD/api-docs/html, built by default where doxygen is found (about a second) and installed to
# DOCDIR/api (package libpalmvein-dev). The headers keep the project's plain // comments;
# cmake/doxygen_comments.py shows them to Doxygen as doc comments. The test api_docs
# (tests/docs/check_api_docs.py) fails on any Doxygen warning, except "not documented" in headers that
# are not yet on PALMVEIN_DOCUMENTED_HEADERS.
find_program(PALMVEIN_DOXYGEN doxygen)
if(NOT PALMVEIN_DOXYGEN)
  message(STATUS "doxygen not found: no API reference (Debian package doxygen)")
  return()
endif()
find_package(Python3 COMPONENTS Interpreter REQUIRED)

file(GLOB PALMVEIN_API_HEADER_FILES CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/lib/include/palmvein/*.hpp ${PROJECT_SOURCE_DIR}/drivers/include/palmvein/*.hpp)
list(JOIN PALMVEIN_API_HEADER_FILES " " PALMVEIN_API_HEADERS)
# Headers whose every public declaration is documented: an undocumented one there fails api_docs.
set(PALMVEIN_DOCUMENTED_HEADERS sensor.hpp auto_exposure.hpp synthetic.hpp
    sensor_uri.hpp
    calibration.hpp enrollment.hpp error.hpp evaluation.hpp extractor.hpp files.hpp gallery.hpp hand.hpp
    identification.hpp image.hpp matcher.hpp opencv.hpp palmvein.hpp roi.hpp template.hpp thread_pool.hpp
    transparency.hpp version.hpp)
set(PALMVEIN_API_DOCS_DIR ${PROJECT_BINARY_DIR}/api-docs)
set(PALMVEIN_DOXYGEN_WARN_AS_ERROR NO)  # the build makes the pages; the test judges the warnings
configure_file(${PROJECT_SOURCE_DIR}/cmake/Doxyfile.in ${PROJECT_BINARY_DIR}/Doxyfile @ONLY)

add_custom_command(OUTPUT ${PALMVEIN_API_DOCS_DIR}/html/index.html
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PALMVEIN_API_DOCS_DIR}
  COMMAND ${PALMVEIN_DOXYGEN} ${PROJECT_BINARY_DIR}/Doxyfile
  DEPENDS ${PALMVEIN_API_HEADER_FILES} ${PROJECT_BINARY_DIR}/Doxyfile ${PROJECT_SOURCE_DIR}/cmake/doxygen_comments.py
  COMMENT "API reference (Doxygen)" VERBATIM)
add_custom_target(docs ALL DEPENDS ${PALMVEIN_API_DOCS_DIR}/html/index.html)
install(DIRECTORY ${PALMVEIN_API_DOCS_DIR}/html/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/api COMPONENT dev)
