// One deleter for every C library handle: std::unique_ptr<T, Deleter<Free>>
// calls Free(pointer) when it lets go of a non-null pointer.
#ifndef DTRUST_SERVER_BASE_DELETER_H_
#define DTRUST_SERVER_BASE_DELETER_H_

namespace dtrust {

// Calls `Free` (any function taking the owned pointer; its result, if any,
// is ignored) on the pointer it is given. For a release function that takes
// more arguments, wrap it in a one-argument function first. Stateless, so a
// unique_ptr using it is as small as a raw pointer.
template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* pointer) const {
    Free(pointer);
  }
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_BASE_DELETER_H_
