// The busy-waker row's shape with plain threads and no runtime (docs/benchmarks.md,
// session 16): the main thread sleeps 200-500 us and futex-wakes A; A futex-wakes B,
// then spins 100 us; B records how long after A's wake it ran. The same shape as
// compare's busy_waker_per_wake, so its percentiles are what the kernel gives two
// threads. Build and run: gcc -O2 -pthread -o /tmp/bw benches/floor/busy_waker_threads.c && /tmp/bw
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <pthread.h>
#include <unistd.h>
#include <time.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <stdatomic.h>
static uint64_t now(){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec*1000000000ull+t.tv_nsec;}
static atomic_int wa, wb, armedA, armedB; static atomic_ullong stamp;
#define N 2000
static uint64_t lat[N];
static void fwait(atomic_int*w){ while(atomic_load(w)==0) syscall(SYS_futex,w,FUTEX_WAIT_PRIVATE,0,0,0,0); atomic_store(w,0);}
static void fwake(atomic_int*w){ atomic_store(w,1); syscall(SYS_futex,w,FUTEX_WAKE_PRIVATE,1,0,0,0);}
static void *A(void*x){ for(int i=0;i<N;i++){ atomic_store(&armedA,1); fwait(&wa); atomic_store(&stamp,now()); fwake(&wb); uint64_t s=now(); while(now()-s<100000); } return 0;}
static void *B(void*x){ for(int i=0;i<N;i++){ atomic_store(&armedB,1); fwait(&wb); lat[i]=now()-atomic_load(&stamp);} return 0;}
int cmp(const void*a,const void*b){uint64_t x=*(uint64_t*)a,y=*(uint64_t*)b; return x<y?-1:x>y;}
int main(){ pthread_t a,b; pthread_create(&a,0,A,0); pthread_create(&b,0,B,0); srand(1);
  for(int i=0;i<N;i++){ while(!atomic_load(&armedA)||!atomic_load(&armedB)) usleep(10); atomic_store(&armedA,0); atomic_store(&armedB,0);
    usleep(200+rand()%300); fwake(&wa);} pthread_join(a,0); pthread_join(b,0);
  qsort(lat,N,8,cmp); printf("plain threads busy waker: p50 %.1f p90 %.1f p99 %.1f us\n",lat[N/2]/1e3,lat[N*9/10]/1e3,lat[N*99/100]/1e3);}
