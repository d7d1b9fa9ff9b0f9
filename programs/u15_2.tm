; U15,2 -- Neary & Woods' 15-state, 2-symbol universal Turing machine
; (Neary & Woods 2009, "Four small universal Turing machines", Fundamenta Informaticae 91),
; the machine Schuurmans (2023) programmed into a language model.
; Symbols: 0 = c, 1 = b. The only halting pair is (J, 1): no rule is defined there.
;
; Initial tape: the bi-tag system q=2, h=2, P(e1,a1) = a1 e2, P(e1,a2) = a2 e2 on the word
; e1 a1 a1, encoded by Neary & Woods' scheme: the program <P> (cells 0..293), then 'bc' and the
; encoded word. The head starts on the 'c' of that 'bc' (cell 295).
; Expected: halts after 39,065 steps in J reading 1 at cell 0; the word left is e2 a1 a1.
name:    U15,2
start:   A
blank:   0
symbols: 0 1
states:  A B C D E F G H I J K L M N O
tape:    11000101010100010001000000000000000000000000000000000000000000000000000000000000000000000000010001000000000000000000000001010101000100010000000000000000000000000000000000000000000000000000000000000000000000000100010000000101010101010001000100000000000000000000000101010101010001000100000001010110010101010101010101010101010101010101011101010111
head:    295

A 0 0 R B
A 1 1 R A
B 0 1 R C
B 1 1 R A
C 0 0 L G
C 1 0 L E
D 0 0 L F
D 1 1 L E
E 0 1 R A
E 1 1 L D
F 0 1 L D
F 1 1 L D
G 0 0 L H
G 1 1 L G
H 0 1 L I
H 1 1 L G
I 0 0 R A
I 1 1 L J
J 0 1 L K
K 0 0 R L
K 1 1 R N
L 0 0 R M
L 1 1 R L
M 0 0 L B
M 1 1 R L
N 0 0 L C
N 1 0 R O
O 0 0 R N
O 1 1 R N
