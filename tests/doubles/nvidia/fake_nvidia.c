/*
 * TEST DOUBLE of the NVIDIA driver's user-space libraries (libcuda.so.1 and
 * libnvidia-ml.so.1), for the suite's own tests on machines without a GPU.
 * NOT a driver: it computes nothing. It answers the few entry points the suite
 * calls, and its device count is the number of /dev/nvidiaN character devices
 * it can open (in the directory named by PADDLE_VERIFY_FAKE_DEV, default /dev),
 * so a container that was not given every device node reports fewer GPUs.
 *
 * Build: gcc -shared -fPIC -O2 -o libcuda.so.1 fake_nvidia.c
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_GPUS 64

static int initialised = 0;
static int gpu_count = 0;

static const char *dev_dir(void) {
    const char *dir = getenv("PADDLE_VERIFY_FAKE_DEV");
    return dir && *dir ? dir : "/dev";
}

static int count_gpus(void) {
    DIR *d = opendir(dev_dir());
    struct dirent *e;
    int n = 0;
    if (!d) return 0;
    while ((e = readdir(d)) != NULL && n < MAX_GPUS) {
        const char *p;
        char path[4096];
        struct stat st;
        int fd;
        if (strncmp(e->d_name, "nvidia", 6) != 0 || !e->d_name[6]) continue;
        for (p = e->d_name + 6; *p && isdigit((unsigned char)*p); p++) {}
        if (*p) continue; /* nvidiactl, nvidia-uvm, ...: not a GPU */
        snprintf(path, sizeof path, "%s/%s", dev_dir(), e->d_name);
        if (stat(path, &st) != 0 || !S_ISCHR(st.st_mode)) continue;
        fd = open(path, O_RDWR);
        if (fd < 0) continue; /* present but not allowed (device cgroup) */
        close(fd);
        n++;
    }
    closedir(d);
    return n;
}

static void uuid_bytes(int index, unsigned char out[16]) {
    int i;
    for (i = 0; i < 16; i++) out[i] = (unsigned char)(0xf0 + i);
    out[15] = (unsigned char)index;
}

static void uuid_text(int index, char *buf, unsigned int len) {
    unsigned char b[16];
    uuid_bytes(index, b);
    snprintf(buf, len,
             "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* --- libcuda (driver API) --- CUresult is 0 on success, 3 not initialised, 101 invalid device */
int cuInit(unsigned int flags) {
    (void)flags;
    gpu_count = count_gpus();
    initialised = 1;
    return gpu_count > 0 ? 0 : 100; /* CUDA_ERROR_NO_DEVICE */
}

int cuDriverGetVersion(int *version) {
    *version = 12020;
    return 0;
}

int cuDeviceGetCount(int *count) {
    if (!initialised) return 3;
    *count = gpu_count;
    return 0;
}

int cuDeviceGet(int *device, int ordinal) {
    if (!initialised) return 3;
    if (ordinal < 0 || ordinal >= gpu_count) return 101;
    *device = ordinal;
    return 0;
}

int cuDeviceGetName(char *name, int len, int device) {
    if (device < 0 || device >= gpu_count) return 101;
    snprintf(name, (size_t)len, "Fake GPU (test double) %d", device);
    return 0;
}

int cuDeviceGetUuid(unsigned char *uuid, int device) {
    if (device < 0 || device >= gpu_count) return 101;
    uuid_bytes(device, uuid);
    return 0;
}

/* --- NVML --- nvmlReturn_t is 0 on success, 1 uninitialised, 2 invalid argument */
int nvmlInit_v2(void) {
    gpu_count = count_gpus();
    initialised = 1;
    return 0;
}

int nvmlShutdown(void) { return 0; }

int nvmlSystemGetDriverVersion(char *version, unsigned int len) {
    snprintf(version, len, "%s", "999.99.99-fake");
    return 0;
}

int nvmlDeviceGetCount_v2(unsigned int *count) {
    if (!initialised) return 1;
    *count = (unsigned int)gpu_count;
    return 0;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **device) {
    if (!initialised) return 1;
    if ((int)index >= gpu_count) return 2;
    *device = (void *)(size_t)(index + 1);
    return 0;
}

int nvmlDeviceGetUUID(void *device, char *uuid, unsigned int len) {
    uuid_text((int)(size_t)device - 1, uuid, len);
    return 0;
}

int nvmlDeviceGetName(void *device, char *name, unsigned int len) {
    snprintf(name, len, "Fake GPU (test double) %d", (int)(size_t)device - 1);
    return 0;
}
