// The echo RTT floor (docs/benchmarks.md, session 16): one thread, one edge-triggered epoll, a loopback TCP pair (TCP_NODELAY),
// 64-byte messages, exactly the syscalls an async runtime makes per round trip:
// client write, client read (EAGAIN), epoll_wait (server readable), server read (short: drained),
// server write, epoll_wait (client readable), client read.
// Build and run: gcc -O2 -o /tmp/ef benches/floor/echo_floor.c && /tmp/ef 20000
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
static uint64_t now(){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec*1000000000ull+t.tv_nsec;}
int cmp(const void*a,const void*b){uint64_t x=*(uint64_t*)a,y=*(uint64_t*)b; return x<y?-1:x>y;}
// A failed setup call says which one and why, then exits.
static void die(const char*what){perror(what); exit(1);}
int main(int argc,char**argv){ int n=argc>1?atoi(argv[1]):20000; if(n<=0){fprintf(stderr,"usage: %s [round trips > 0]\n",argv[0]); return 2;}
  int l=socket(AF_INET,SOCK_STREAM,0); if(l<0) die("socket");
  struct sockaddr_in a={.sin_family=AF_INET,.sin_addr.s_addr=htonl(INADDR_LOOPBACK)}; socklen_t al=sizeof a;
  if(bind(l,(void*)&a,sizeof a)||listen(l,1)||getsockname(l,(void*)&a,&al)) die("bind/listen");
  int c=socket(AF_INET,SOCK_STREAM,0); if(c<0) die("socket");
  if(connect(c,(void*)&a,sizeof a)) die("connect");
  int s=accept(l,0,0); if(s<0) die("accept");
  int one=1;
  if(setsockopt(c,IPPROTO_TCP,TCP_NODELAY,&one,4)||setsockopt(s,IPPROTO_TCP,TCP_NODELAY,&one,4)) die("TCP_NODELAY");
  if(fcntl(c,F_SETFL,O_NONBLOCK)||fcntl(s,F_SETFL,O_NONBLOCK)) die("O_NONBLOCK");
  int ep=epoll_create1(0); if(ep<0) die("epoll_create1");
  struct epoll_event ev={.events=EPOLLIN|EPOLLOUT|EPOLLET};
  ev.data.fd=c; if(epoll_ctl(ep,EPOLL_CTL_ADD,c,&ev)) die("epoll_ctl");
  ev.data.fd=s; if(epoll_ctl(ep,EPOLL_CTL_ADD,s,&ev)) die("epoll_ctl");
  struct epoll_event evs[16]; if(epoll_wait(ep,evs,16,0)<0) die("epoll_wait");
  char msg[64]; memset(msg,'x',64); char buf[4096]; uint64_t *lat=malloc(8*n);
  for(int r=0;r<n+1000;r++){ uint64_t t0=now();
    if(write(c,msg,64)!=64) abort();
    if(read(c,buf,64)!=-1||errno!=EAGAIN) abort();
    int got=0; while(!got){ int k=epoll_wait(ep,evs,16,-1); for(int i=0;i<k;i++) if(evs[i].data.fd==s&&(evs[i].events&EPOLLIN)) got=1; }
    int m=read(s,buf,4096); if(m!=64) abort();
    if(write(s,buf,m)!=m) abort();
    got=0; while(!got){ int k=epoll_wait(ep,evs,16,-1); for(int i=0;i<k;i++) if(evs[i].data.fd==c&&(evs[i].events&EPOLLIN)) got=1; }
    if(read(c,buf,4096)!=64) abort();
    if(r>=1000) lat[r-1000]=now()-t0; }
  qsort(lat,n,8,cmp); printf("echo floor (1 thread, 7 syscalls/RTT): p50 %.2f p99 %.2f us\n",lat[n/2]/1e3,lat[n*99/100]/1e3);}
