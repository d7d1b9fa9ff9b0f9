; 4-state busy beaver champion (107 steps, 13 ones)
; standard text format: 1RB1LB_1LA0LC_1RZ1LD_1RD0RA
name:    bb4
start:   A
blank:   0
halt:    Z
symbols: 0 1
states:  A B C D Z

A 0 1 R B
A 1 1 L B
B 0 1 L A
B 1 0 L C
C 0 1 R Z
C 1 1 L D
D 0 1 R D
D 1 0 R A
