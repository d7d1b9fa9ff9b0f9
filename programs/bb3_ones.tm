; 3-state busy beaver champion by ones (13 steps, 6 ones)
; standard text format: 1RB1LC_1LA1RB_1LB1RZ
name:    bb3_ones
start:   A
blank:   0
halt:    Z
symbols: 0 1
states:  A B C Z

A 0 1 R B
A 1 1 L C
B 0 1 L A
B 1 1 R B
C 0 1 L B
C 1 1 R Z
