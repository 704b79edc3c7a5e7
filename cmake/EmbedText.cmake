# Writes a C++ source defining `absl::string_view NAMESPACE::FUNCTION()` that
# returns the contents of INPUT, so binaries need not find the file at run
# time. Run as:
#   cmake -DINPUT=file -DOUTPUT=out.cc -DHEADER=dir/decl.h -DNAMESPACE=ns
#         -DFUNCTION=Name -P EmbedText.cmake
foreach(var INPUT OUTPUT HEADER NAMESPACE FUNCTION)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "EmbedText.cmake: -D${var}=... is required")
  endif()
endforeach()

file(READ "${INPUT}" text)
set(delimiter "dtrust_embed")
string(FIND "${text}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )${delimiter}\"")
endif()

file(WRITE "${OUTPUT}" "// Generated from ${INPUT} by cmake/EmbedText.cmake; do not edit.
#include \"${HEADER}\"

namespace ${NAMESPACE} {

absl::string_view ${FUNCTION}() {
  static constexpr char kText[] = R\"${delimiter}(${text})${delimiter}\";
  return absl::string_view(kText, sizeof(kText) - 1);
}

}  // namespace ${NAMESPACE}
")
