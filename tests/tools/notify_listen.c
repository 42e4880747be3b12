/*
 * notify_listen - a systemd notification socket for tests: binds an
 * AF_UNIX datagram socket at PATH and writes each message it receives to
 * OUT, one per line (its newlines as spaces), until SIGTERM or SIGINT.
 *
 * usage: notify_listen PATH OUT
 * A test sets NOTIFY_SOCKET=PATH for the program under test, as systemd
 * does, and reads OUT: READY=1, STATUS=..., WATCHDOG=1, RELOADING=1,
 * STOPPING=1.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct sigaction sa = { .sa_handler = on_signal };
	char msg[4096];
	FILE *out;
	int fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(a.sun_path)) {
		fprintf(stderr, "usage: notify_listen PATH OUT\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("notify_listen: socket");
		return 1;
	}
	strcpy(a.sun_path, argv[1]);
	unlink(argv[1]);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("notify_listen: bind");
		return 1;
	}
	out = fopen(argv[2], "w");
	if (!out) {
		perror("notify_listen: open");
		return 1;
	}
	while (!stop) {
		ssize_t n = recv(fd, msg, sizeof(msg) - 1, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("notify_listen: recv");
			break;
		}
		msg[n] = '\0';
		for (ssize_t i = 0; i < n; i++)
			if (msg[i] == '\n')
				msg[i] = ' ';
		fprintf(out, "%s\n", msg);
		fflush(out);
	}
	fclose(out);
	close(fd);
	unlink(argv[1]);
	return 0;
}
