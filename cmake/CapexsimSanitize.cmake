# Sanitizer builds: -DCAPEXSIM_SANITIZE=address (AddressSanitizer + UndefinedBehaviorSanitizer)
# or -DCAPEXSIM_SANITIZE=thread (ThreadSanitizer). Sanitizers must instrument every object
# of the program alike, so unlike the project's other settings these are directory-wide.
# They also turn off the block kernel's target_clones: GCC's ifunc resolver runs before
# the sanitizer runtime is initialised and crashes a ThreadSanitizer build before main.
set(CAPEXSIM_SANITIZE "" CACHE STRING "Sanitizer build: address (ASan+UBSan), thread (TSan) or empty")
set_property(CACHE CAPEXSIM_SANITIZE PROPERTY STRINGS "" address thread)
if(CAPEXSIM_SANITIZE STREQUAL "address")
  set(_capexsim_san -fsanitize=address,undefined -fno-sanitize-recover=all)
elseif(CAPEXSIM_SANITIZE STREQUAL "thread")
  set(_capexsim_san -fsanitize=thread)
  # src/engine.cpp then runs its chunks on plain threads: the system's oneTBB library is
  # not instrumented, so TSan would report its task hand-offs as races.
  add_compile_definitions(CAPEXSIM_THREAD_SANITIZER)
elseif(NOT CAPEXSIM_SANITIZE STREQUAL "")
  message(FATAL_ERROR "CAPEXSIM_SANITIZE=${CAPEXSIM_SANITIZE}: expected address, thread or empty")
endif()
if(_capexsim_san)
  add_compile_options(${_capexsim_san} -fno-omit-frame-pointer -g)
  add_link_options(${_capexsim_san})
  add_compile_definitions(CAPEXSIM_NO_TARGET_CLONES)
endif()
