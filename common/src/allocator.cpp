/**
 * @file allocator.cpp
 * @brief The built-in `libc` allocator and the loader of allocator plug-ins.
 */
#include "heaplab/allocator.h"

#include <algorithm>
#include <cstdlib>
#include <dlfcn.h>
#include <filesystem>
#include <malloc.h>
#include <unistd.h>

namespace heaplab {
namespace {

// glibc behind mm.h. These are plain calls; the compiler must not see through them and drop
// a malloc/free pair, which is why they are called through function pointers.
int libc_init() { return 0; }
void *libc_malloc(std::size_t size) { return std::malloc(size); }
void libc_free(void *ptr) { std::free(ptr); }
void *libc_realloc(void *ptr, std::size_t size) { return std::realloc(ptr, size); }
void *libc_calloc(std::size_t nmemb, std::size_t size) { return std::calloc(nmemb, size); }
int libc_checkheap(int) { return 1; }
/// What glibc holds from the system: the main arena's break memory plus mmapped chunks.
std::size_t libc_heap_bytes() {
    struct mallinfo2 info = mallinfo2();
    return info.arena + info.hblkhd;
}
/// Gives glibc's free memory back to the system between passes, so each starts alike.
void libc_reset() { malloc_trim(0); }

/// The folder of plug-ins: $HEAPLAB_ALLOCATOR_DIR, else lib/heaplab/allocators beside bin/.
std::filesystem::path plugin_dir() {
    if (const char *dir = std::getenv("HEAPLAB_ALLOCATOR_DIR"); dir != nullptr && *dir != '\0')
        return dir;
    std::error_code error;
    std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error) return "lib/heaplab/allocators";
    return exe.parent_path().parent_path() / "lib" / "heaplab" / "allocators";
}

template <typename Function>
Function symbol(void *handle, const char *name, const std::string &path, bool required) {
    void *address = dlsym(handle, name);
    if (address == nullptr && required)
        throw AllocatorError(path + " does not define " + name + "()");
    return reinterpret_cast<Function>(address);
}

}  // namespace

const Allocator &libc_allocator() {
    static const Allocator libc = [] {
        Allocator a;
        a.name = "libc";
        a.origin = "built in (glibc malloc)";
        a.init = libc_init;
        a.malloc = libc_malloc;
        a.free = libc_free;
        a.realloc = libc_realloc;
        a.calloc = libc_calloc;
        a.checkheap = libc_checkheap;
        a.uses_memlib = false;
        a.heap_bytes = libc_heap_bytes;
        a.reset = libc_reset;
        return a;
    }();
    return libc;
}

std::shared_ptr<const Allocator> load_allocator(const std::string &name_or_path) {
    if (name_or_path == "libc") return {std::shared_ptr<const Allocator>{}, &libc_allocator()};

    bool is_path = name_or_path.find('/') != std::string::npos ||
                   name_or_path.ends_with(".so");
    std::filesystem::path path =
        is_path ? std::filesystem::path(name_or_path) : plugin_dir() / ("mm_" + name_or_path + ".so");
    if (!std::filesystem::exists(path)) {
        std::string known;
        for (const std::string &name : available_allocators()) known += (known.empty() ? "" : ", ") + name;
        throw AllocatorError("unknown allocator '" + name_or_path + "' (no " + path.string() +
                             "); known: " + known);
    }
    if (!is_path) path = std::filesystem::absolute(path);
    // RTLD_LOCAL: each plug-in keeps its own mm_* names; RTLD_NOW: a missing symbol is an
    // error here, not a crash in the middle of a replay.
    void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) throw AllocatorError("cannot load " + path.string() + ": " + dlerror());
    auto allocator = std::make_shared<Allocator>();
    allocator->name = is_path ? path.stem().string() : name_or_path;
    allocator->origin = path.string();
    std::string shown = path.string();
    allocator->init = symbol<int (*)()>(handle, "mm_init", shown, true);
    allocator->malloc = symbol<void *(*)(std::size_t)>(handle, "mm_malloc", shown, true);
    allocator->free = symbol<void (*)(void *)>(handle, "mm_free", shown, true);
    allocator->realloc = symbol<void *(*)(void *, std::size_t)>(handle, "mm_realloc", shown, true);
    allocator->calloc = symbol<void *(*)(std::size_t, std::size_t)>(handle, "mm_calloc", shown, false);
    allocator->checkheap = symbol<int (*)(int)>(handle, "mm_checkheap", shown, false);
    allocator->heap_walk = symbol<int (*)(mm_block_visitor, void *)>(handle, "mm_heap_walk", shown, false);
    // The handle stays open for the life of the process: code from it may still be on a stack.
    return allocator;
}

std::vector<std::string> available_allocators() {
    std::vector<std::string> names;
    std::error_code error;
    for (const auto &entry : std::filesystem::directory_iterator(plugin_dir(), error)) {
        std::string file = entry.path().filename().string();
        if (file.starts_with("mm_") && file.ends_with(".so"))
            names.push_back(file.substr(3, file.size() - 6));
    }
    std::sort(names.begin(), names.end());
    names.insert(names.begin(), "libc");
    return names;
}

}  // namespace heaplab
