set terminal pngcairo size 800,520 enhanced font 'DejaVu Sans,10' noenhanced
set output "curve-mig-vs-minutes.png"
set title "mig during training (mean ± std over seeds)"
set xlabel "training minutes (CPU time ÷ threads)"
set ylabel "mig"
set grid
set key outside right
set offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05
plot 'curve-mig-vs-minutes.0.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-gvae", 'curve-mig-vs-minutes.1.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-ml-vae", 'curve-mig-vs-minutes.2.dat' using 1:2:3 with yerrorlines lw 2 title "kind=annealed-vae", 'curve-mig-vs-minutes.3.dat' using 1:2:3 with yerrorlines lw 2 title "kind=beta-tcvae", 'curve-mig-vs-minutes.4.dat' using 1:2:3 with yerrorlines lw 2 title "kind=beta-vae", 'curve-mig-vs-minutes.5.dat' using 1:2:3 with yerrorlines lw 2 title "kind=dip-vae-1", 'curve-mig-vs-minutes.6.dat' using 1:2:3 with yerrorlines lw 2 title "kind=dip-vae-2", 'curve-mig-vs-minutes.7.dat' using 1:2:3 with yerrorlines lw 2 title "kind=factor-vae"
