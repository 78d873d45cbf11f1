// libpng 1.6 (Debian: libpng-dev, pkg-config `libpng16`) and the zlib it is built on
// (zlib1g-dev, a dependency of libpng-dev), used for PNG files and for inflating npz archives.
#include <png.h>
#include <zlib.h>
