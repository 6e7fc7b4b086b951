# Vendors hls.js for the web player (run by web/CMakeLists.txt at build time):
#   cmake -DNPM=npm -DVERSION=1.7.4 -DSHA512=<hex> -DWORK_DIR=<dir> -DDEST_DIR=<dir> -P fetch-hlsjs.cmake
# `npm pack` fetches the published tarball (npm verifies it against the registry's
# sha512); this script checks that sha512 against the pinned one, then copies the
# minified build and its licence to DEST_DIR. Any failure stops the build: there is
# no player without hls.js.
foreach(var NPM VERSION SHA512 WORK_DIR DEST_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "fetch-hlsjs.cmake: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
# --prefer-offline: a tarball already in npm's cache is used without asking the registry
# (npm still checks its integrity, and so does the sha512 check below).
execute_process(
  COMMAND ${NPM} pack hls.js@${VERSION} --json --ignore-scripts --prefer-offline --pack-destination ${WORK_DIR}
          --fetch-retries=1 --fetch-timeout=60000 --loglevel=error
  WORKING_DIRECTORY ${WORK_DIR}
  RESULT_VARIABLE status
  OUTPUT_VARIABLE packed
  ERROR_VARIABLE npm_stderr
  TIMEOUT 300)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "gopcast: could not fetch hls.js ${VERSION} from the npm registry (npm pack: ${status}). "
                      "The web player is never built without it: check the network, npm's proxy and registry "
                      "settings (npm config get registry), then build again.\n${npm_stderr}")
endif()
string(JSON tarball ERROR_VARIABLE json_error GET "${packed}" 0 filename)
if(json_error OR NOT EXISTS ${WORK_DIR}/${tarball})
  message(FATAL_ERROR "gopcast: npm pack hls.js@${VERSION} wrote no tarball in ${WORK_DIR} (${json_error}):\n${packed}")
endif()

file(SHA512 ${WORK_DIR}/${tarball} actual)
if(NOT actual STREQUAL SHA512)
  message(FATAL_ERROR "gopcast: ${tarball} has sha512 ${actual}, but web/CMakeLists.txt pins ${SHA512}: refusing it")
endif()

file(ARCHIVE_EXTRACT INPUT ${WORK_DIR}/${tarball} DESTINATION ${WORK_DIR}/unpacked
     PATTERNS package/dist/hls.min.js package/LICENSE)
file(MAKE_DIRECTORY ${DEST_DIR})
file(COPY_FILE ${WORK_DIR}/unpacked/package/dist/hls.min.js ${DEST_DIR}/hls.min.js)
file(COPY_FILE ${WORK_DIR}/unpacked/package/LICENSE ${DEST_DIR}/hls.js-LICENSE.txt)
message(STATUS "hls.js ${VERSION} (sha512 verified) -> ${DEST_DIR}")
