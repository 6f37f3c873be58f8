/* delayproxy: a loopback TCP proxy that holds every byte DELAY_US microseconds in each
 * direction, so a client sees 2 * DELAY_US of extra round-trip time to the server without
 * losing pipelining (bytes read are queued with a due time and written when it passes).
 * The kernel here has no netem; this stands in for toxiproxy in Sidekiq's bin/sidekiqload.
 *
 *   delayproxy LISTEN_PORT TARGET_PORT [DELAY_US]      (default 500)
 *
 * Single-threaded, ppoll with a nanosecond timeout. Bench tool only: no hardening.
 * Built by bench/run.sh with: cc -O2 -o delayproxy bench/delayproxy.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXCONN 512
#define CHUNK 65536

struct chunk {
	struct chunk *next;
	int64_t due; /* ns, CLOCK_MONOTONIC */
	size_t len, off;
	char data[];
};

struct dir { /* one direction: bytes read from `from` and written to `to` */
	int from, to;
	struct chunk *head, *tail;
	int eof; /* `from` closed: shut down `to` once drained */
};

struct pair {
	int used;
	struct dir d[2]; /* 0: client -> server, 1: server -> client */
};

static struct pair pairs[MAXCONN];
static int64_t delay_ns;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void nonblock(int fd)
{
	int one = 1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void close_pair(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		struct chunk *c = p->d[i].head;
		while (c) {
			struct chunk *n = c->next;
			free(c);
			c = n;
		}
	}
	close(p->d[0].from);
	close(p->d[1].from);
	memset(p, 0, sizeof *p);
}

/* Reads what is there into a new chunk due at now + delay. -1: close the pair. */
static int do_read(struct dir *d)
{
	char buf[CHUNK];
	ssize_t n = read(d->from, buf, sizeof buf);
	if (n == 0) {
		d->eof = 1;
		return 0;
	}
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	struct chunk *c = malloc(sizeof *c + (size_t)n);
	if (!c)
		return -1;
	memcpy(c->data, buf, (size_t)n);
	c->len = (size_t)n;
	c->off = 0;
	c->due = now_ns() + delay_ns;
	c->next = NULL;
	if (d->tail)
		d->tail->next = c;
	else
		d->head = c;
	d->tail = c;
	return 0;
}

/* Writes every chunk that is due. -1: close the pair. */
static int do_write(struct dir *d, int64_t now)
{
	while (d->head && d->head->due <= now) {
		struct chunk *c = d->head;
		ssize_t n = write(d->to, c->data + c->off, c->len - c->off);
		if (n < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		c->off += (size_t)n;
		if (c->off < c->len)
			return 0;
		d->head = c->next;
		if (!d->head)
			d->tail = NULL;
		free(c);
	}
	if (!d->head && d->eof == 1) {
		shutdown(d->to, SHUT_WR);
		d->eof = 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: delayproxy LISTEN_PORT TARGET_PORT [DELAY_US]\n");
		return 2;
	}
	int lport = atoi(argv[1]), tport = atoi(argv[2]);
	delay_ns = (int64_t)(argc > 3 ? atol(argv[3]) : 500) * 1000;
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_TIMERSLACK, 1UL); /* wake on time: the default slack is 50 us */

	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in la = {.sin_family = AF_INET, .sin_port = htons((uint16_t)lport)};
	la.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&la, sizeof la) < 0 || listen(ls, 128) < 0) {
		perror("delayproxy: listen");
		return 1;
	}
	nonblock(ls);
	struct sockaddr_in ta = la;
	ta.sin_port = htons((uint16_t)tport);

	static struct pollfd pfd[1 + 2 * MAXCONN];
	static int pidx[1 + 2 * MAXCONN];
	for (;;) {
		int64_t now = now_ns(), next = -1;
		int n = 0;
		pfd[n].fd = ls;
		pfd[n].events = POLLIN;
		pidx[n++] = -1;
		for (int i = 0; i < MAXCONN; i++) {
			struct pair *p = &pairs[i];
			if (!p->used)
				continue;
			for (int k = 0; k < 2; k++) {
				struct dir *d = &p->d[k];
				short ev = 0;
				if (!d->eof)
					ev |= POLLIN;
				if (d->head && (next < 0 || d->head->due < next))
					next = d->head->due;
				pfd[n].fd = d->from;
				pfd[n].events = ev;
				/* d->from of direction k is d->to of direction 1-k */
				struct dir *o = &p->d[1 - k];
				if (o->head && o->head->due <= now)
					pfd[n].events |= POLLOUT;
				pidx[n++] = i * 2 + k;
			}
		}
		struct timespec ts, *tsp = NULL;
		if (next >= 0) {
			int64_t wait = next - now;
			if (wait < 0)
				wait = 0;
			ts.tv_sec = wait / 1000000000;
			ts.tv_nsec = wait % 1000000000;
			tsp = &ts;
		}
		if (ppoll(pfd, (nfds_t)n, tsp, NULL) < 0 && errno != EINTR) {
			perror("delayproxy: ppoll");
			return 1;
		}
		if (pfd[0].revents & POLLIN) {
			int c;
			while ((c = accept(ls, NULL, NULL)) >= 0) {
				int s = socket(AF_INET, SOCK_STREAM, 0), slot = -1;
				for (int i = 0; i < MAXCONN; i++)
					if (!pairs[i].used) {
						slot = i;
						break;
					}
				if (slot < 0 || connect(s, (struct sockaddr *)&ta, sizeof ta) < 0) {
					close(c);
					close(s);
					continue;
				}
				nonblock(c);
				nonblock(s);
				struct pair *p = &pairs[slot];
				p->used = 1;
				p->d[0] = (struct dir){.from = c, .to = s};
				p->d[1] = (struct dir){.from = s, .to = c};
			}
		}
		for (int j = 1; j < n; j++) {
			struct pair *p = &pairs[pidx[j] / 2];
			struct dir *d = &p->d[pidx[j] % 2];
			if (!p->used)
				continue;
			if ((pfd[j].revents & (POLLIN | POLLHUP | POLLERR)) && !d->eof && do_read(d) < 0)
				close_pair(p);
		}
		now = now_ns();
		for (int i = 0; i < MAXCONN; i++) {
			struct pair *p = &pairs[i];
			if (!p->used)
				continue;
			if (do_write(&p->d[0], now) < 0 || do_write(&p->d[1], now) < 0 ||
			    (p->d[0].eof == 2 && p->d[1].eof == 2))
				close_pair(p);
		}
	}
}
