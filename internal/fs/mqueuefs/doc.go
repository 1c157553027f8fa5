// Package mqueuefs is the mqueue file system (mount -t mqueue): one flat
// directory that shows the POSIX message queues of the IPC namespace it
// was mounted in. Each name is a queue: opening it gives the same
// descriptor mq_open gives (reading it shows the queue's status line),
// creating a file makes a queue with the default sizes, unlinking removes
// the name as mq_unlink does. It keeps no state of its own: the queues are
// the namespace's registry's (package ipc), under its lock.
// Linux: ipc/mqueue.c (mqueue_fs_type, mqueue_create, mqueue_unlink)
//
// Lock order: none of its own; ipc.MQRegistry.mu, then MQueue.mu (Stat).
package mqueuefs
