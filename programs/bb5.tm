; 5-state busy beaver champion, proved 2024 (47,176,870 steps, 4,098 ones)
; standard text format: 1RB1LC_1RC1RB_1RD0LE_1LA1LD_1RZ0LA
name:    bb5
start:   A
blank:   0
halt:    Z
symbols: 0 1
states:  A B C D E Z

A 0 1 R B
A 1 1 L C
B 0 1 R C
B 1 1 R B
C 0 1 R D
C 1 0 L E
D 0 1 L A
D 1 1 L D
E 0 1 R Z
E 1 0 L A
