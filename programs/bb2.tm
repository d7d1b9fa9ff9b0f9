; 2-state busy beaver champion (6 steps, 4 ones)
; standard text format: 1RB1LB_1LA1RZ
name:    bb2
start:   A
blank:   0
halt:    Z
symbols: 0 1
states:  A B Z

A 0 1 R B
A 1 1 L B
B 0 1 L A
B 1 1 R Z
