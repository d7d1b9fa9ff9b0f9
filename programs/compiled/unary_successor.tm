; Unary successor: run right over the 1s and write one more. Tape 11 -> 111.
; Compiled for U15,2 in unary_successor.u15_2.tm (mannsim compile ... --target u15_2).
name:    unary successor
start:   A
blank:   0
halt:    H
symbols: 0 1
states:  A H
tape:    11

A 1 1 R A
A 0 1 R H
