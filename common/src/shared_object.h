// One object in memory shared with forked children (MAP_SHARED | MAP_ANONYMOUS): where a child
// was when it died stays readable in the parent (the replay's and the stress driver's progress).
// Internal to common/src.
#ifndef HEAPLAB_SHARED_OBJECT_H
#define HEAPLAB_SHARED_OBJECT_H

#include <new>
#include <sys/mman.h>

namespace heaplab {

template <typename T>
class SharedObject {
public:
    SharedObject() {
        void *memory = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (memory != MAP_FAILED) object_ = new (memory) T;
    }
    ~SharedObject() {
        if (object_ != nullptr) munmap(object_, sizeof(T));
    }
    SharedObject(const SharedObject &) = delete;
    SharedObject &operator=(const SharedObject &) = delete;
    /// nullptr when it could not be mapped (errno says why).
    T *get() const { return object_; }

private:
    T *object_ = nullptr;
};

}  // namespace heaplab

#endif
