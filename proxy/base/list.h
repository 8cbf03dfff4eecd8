/* Intrusive doubly linked lists with a head pointer only: connections, control
 * connections and HTTP/2 streams. A node type needs `prev` and `next` fields;
 * the list never owns its nodes, it only links them. */
#ifndef CP_LIST_H
#define CP_LIST_H

/* Links node n in front of *head. */
#define CP_LIST_PUSH(head, n)                                                  \
  do {                                                                         \
    (n)->prev = NULL;                                                          \
    (n)->next = (head);                                                        \
    if ((head) != NULL) {                                                      \
      (head)->prev = (n);                                                      \
    }                                                                          \
    (head) = (n);                                                              \
  } while (0)

/* Unlinks node n from the list starting at head. */
#define CP_LIST_UNLINK(head, n)                                                \
  do {                                                                         \
    if ((n)->prev != NULL) {                                                   \
      (n)->prev->next = (n)->next;                                             \
    } else {                                                                   \
      (head) = (n)->next;                                                      \
    }                                                                          \
    if ((n)->next != NULL) {                                                   \
      (n)->next->prev = (n)->prev;                                             \
    }                                                                          \
    (n)->prev = (n)->next = NULL;                                              \
  } while (0)

#endif
