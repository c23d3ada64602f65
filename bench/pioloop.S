/* bench/pioloop.S: a Multiboot v1 guest that writes ITER dwords to the test device's counter
 * port (0x528), then exits through the test device (port 0x520, status 0). The same loop
 * runs under bench/kvm-floor (a bare KVM_RUN loop) for the exit-rate floor. */
	.section .text
	.code32
	.align 4
mb_header:
	.long 0x1badb002
	.long 0
	.long -0x1badb002
	.globl _start
_start:
	mov $0x528, %dx
	mov $ITER, %ecx
1:	out %eax, %dx
	dec %ecx
	jnz 1b
	mov $0x520, %dx
	xor %eax, %eax
	out %eax, %dx
2:	hlt
	jmp 2b
