# Warning flags for HeadScope's own targets (third-party headers come in as SYSTEM and stay quiet).
function(headscope_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                            -Wno-missing-field-initializers)
  if(HEADSCOPE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(HEADSCOPE_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# Sources of a folder, recursively, so that adding a file needs no CMake edit.
function(headscope_glob out)
  file(GLOB_RECURSE found CONFIGURE_DEPENDS ${ARGN})
  set(${out} ${found} PARENT_SCOPE)
endfunction()
