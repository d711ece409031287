# Dependencies from Debian 12 packages (see README for the apt line).
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(Boost 1.74 REQUIRED)
find_package(TBB REQUIRED)
find_package(tomlplusplus REQUIRED)
# Random123 is header-only and ships no CMake config.
find_path(RANDOM123_INCLUDE_DIR Random123/philox.h REQUIRED)
