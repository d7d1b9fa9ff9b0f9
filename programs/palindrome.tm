; Palindrome check over {0, 1}: erases matching end symbols pairwise.
; Expected: 1001 halts in 'halt-accept' (tape left blank); 10 would halt in 'halt-reject'.
name:  palindrome
start: q0
blank: _
halt:  halt-accept halt-reject
tape:  1001

q0 0 _ R have0          ; remember the first symbol and erase it
q0 1 _ R have1
q0 _ _ S halt-accept    ; nothing left: a palindrome
have0 0 0 R have0
have0 1 1 R have0
have0 _ _ L check0
have1 0 0 R have1
have1 1 1 R have1
have1 _ _ L check1
check0 0 _ L back       ; last symbol matches: erase it and go back
check0 1 1 S halt-reject
check0 _ _ S halt-accept
check1 1 _ L back
check1 0 0 S halt-reject
check1 _ _ S halt-accept
back 0 0 L back
back 1 1 L back
back _ _ R q0
